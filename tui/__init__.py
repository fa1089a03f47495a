"""The Textual terminal app (终端界面).  Imported only by ``dangjian`` / ``dangjian tui``."""
