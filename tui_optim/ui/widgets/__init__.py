"""Small widgets of the run screen: the run legend, the status line, the key bar."""
