"""The model-building pipeline of this project, and the command line that builds, upserts and runs it."""
