"""The incident lifecycle: its rules, declaring, changes, updates, reminders, closing, report."""
