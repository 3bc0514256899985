"""Feedback surveys: a stage's questions to every participant by DM, compiled into the stage."""
