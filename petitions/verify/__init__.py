"""The public verification page of signed PDFs."""
