"""Records in and out: readers, writers, the output schema, run files and summaries."""
