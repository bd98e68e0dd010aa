fn main() { print!("{}", tracelab_minipy::effects::declarations()); }
