"""What every feature shares about Slack: the Web API client, people, text escaping, modals."""
