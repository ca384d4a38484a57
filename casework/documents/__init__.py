"""Stage documents: typed contexts, the template catalogue and rendering to HTML, Markdown, DOCX, PDF."""
