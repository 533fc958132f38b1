from server.api import blueprint

blp = blueprint("contacts", "", "contacts")
