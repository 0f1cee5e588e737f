"""What is written from the archive: verified answers, quotes, topic write-ups, the LLM client."""
