"""Real executors behind moto's APIs."""
