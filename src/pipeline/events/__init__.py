"""An event: the organiser's settings (settings) and how far its photos are (progress)."""
