"""`phasegate`: the command line, a front end beside the TUI that calls the same domain functions.

One module per command group, each declaring its parser next to its handlers (`register`);
`cli.main` assembles them. Nothing here imports Textual: `phasegate open` imports the TUI lazily.
"""
