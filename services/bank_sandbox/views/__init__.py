"""HTTP views: thin validation in front of the domain handlers."""
