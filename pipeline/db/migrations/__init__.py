"""Schema migrations: ``vNNNN_name.py`` modules, each with ``migrate(conn)``, applied in order."""
