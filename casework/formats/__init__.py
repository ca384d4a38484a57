"""File formats and their codecs (XLSX, CSV, row templates, charts, safe file writes): bytes in and out."""
