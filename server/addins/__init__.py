"""What the Office and Google add-ins share: case suggestions for a message, where it is archived,
the task pane files and the rendered manifests."""
