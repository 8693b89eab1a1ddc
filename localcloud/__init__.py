"""localcloud: a local AWS endpoint (moto server + real executors for Lambda, Glue, Athena, Step Functions)."""
