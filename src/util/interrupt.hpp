// SIGINT/SIGTERM handling: long operations poll interrupted() and stop cleanly (exit 130).
#pragma once

namespace obkeep {

void install_interrupt_handlers();
bool interrupted();
// Throws Error(…, ExitCode::interrupted) when a signal has arrived.
void throw_if_interrupted();

}  // namespace obkeep
