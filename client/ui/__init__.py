"""The desktop window: views, widgets and the one controller that wires them to the engine."""
