# Re-drive what did not load: the S3 trigger's dead-letter queue and failed executions (lakepipe/replay.py).
REPLAY_ARGS ?=
.PHONY: replay
replay: venv ## re-drive the trigger's DLQ and failed executions, idempotently (REPLAY_ARGS='--dataset X --execution NAME')
	$(PY) tools/replay.py $(REPLAY_ARGS)
