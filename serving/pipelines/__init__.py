"""Application pipelines: the glue between vision, cameras, workflow and the infrastructure adapters."""
