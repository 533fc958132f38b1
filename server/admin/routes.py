from server.api import blueprint

blp = blueprint("admin", "", "admin")
