"""Many workspaces: the OAuth install, leaving (uninstall), and a workspace's data on request."""
