from server.api import blueprint

blp = blueprint("cases", "", "cases")
