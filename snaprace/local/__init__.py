"""The embedded local stack (DESIGN.md §7): moto, the Rekognition emulator, in-process functions."""
