"""The web application: each route calls a service as the signed-in staff member and renders a page."""
