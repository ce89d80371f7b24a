"""How work comes in: uploads (multipart, tus), their options and quotas, and queueing a job."""
