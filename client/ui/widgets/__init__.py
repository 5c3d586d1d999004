"""Small reusable widgets: video surface, notices, help overlay, quality indicator."""
