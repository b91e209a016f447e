"""The application around the pages: start-up, log-in, the main window, idle lock, look and feel."""
