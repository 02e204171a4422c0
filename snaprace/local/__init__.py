"""The embedded local stack (docs/local-stack.md): moto, the Rekognition emulator, in-process functions."""
