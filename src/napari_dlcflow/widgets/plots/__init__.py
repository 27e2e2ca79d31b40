"""The Plots dock: trajectories, likelihood and skeleton measures of an analysis."""
