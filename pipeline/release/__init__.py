"""Release tooling: export a run to a release folder, verify and publish it, and the HTML report."""
