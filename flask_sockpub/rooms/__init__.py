"""Rooms and publishing: room names, membership, user rooms and model rooms."""
