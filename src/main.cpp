// obkeep's entry point: everything lives in the library; main only hands over argv.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return obkeep::cli::run(argc, argv); }
