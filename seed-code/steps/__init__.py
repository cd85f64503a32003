"""Scripts that run inside the pipeline's SageMaker jobs (processing containers), not on your laptop."""
