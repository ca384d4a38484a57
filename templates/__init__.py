"""The Jinja templates shipped inside casework (as casework.templates): documents/ for stage documents, web/ for pages."""
