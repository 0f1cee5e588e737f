"""Finding what was said: chunking, embedding, the keyword index, hybrid search and hits."""
