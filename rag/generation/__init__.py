"""Generation: answers written by an LLM that can still be trusted — an evidence gate before the call, passages
fenced as data in the prompt, and every sentence of the reply checked against the passage it cites."""
