"""The Google Workspace add-on: HTTP endpoints Google calls with event objects, answered with cards."""
