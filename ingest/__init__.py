"""Media, URLs and transcript files -> segments with word timings -> chunks -> the archive."""
