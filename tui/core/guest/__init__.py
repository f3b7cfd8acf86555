"""Running the user's code under guards: its output, its threads, the process state it changes."""
