//===- MpiCommunicator.h - the communicator over MPI ------------*- C++ -*-===//
//
// Library fp8rt_mpi, built only where CMake finds MPI (Open MPI: Debian's
// libopenmpi-dev). One per process, over MPI_COMM_WORLD: created after the
// launcher (mpirun, srun) started the ranks, MPI finalized when destroyed.
//
//===----------------------------------------------------------------------===//

#ifndef FP8RT_COMM_MPICOMMUNICATOR_H
#define FP8RT_COMM_MPICOMMUNICATOR_H

#include "fp8rt/comm/Communicator.h"

#include <memory>

namespace fp8rt::comm {

/// Whether this process was started by an MPI launcher (mpirun, srun):
/// the environment says so (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK).
bool launchedByMpi();

/// MPI_Init and MPI_COMM_WORLD. Errors: MPI cannot be initialised.
StatusOr<std::unique_ptr<Communicator>> createMpiCommunicator(int *argc, char ***argv);

/// Ends the whole job (MPI_Abort) with `code`: a rank that fails while the
/// others wait in a collective must not leave them waiting.
[[noreturn]] void abortMpiJob(int code);

} // namespace fp8rt::comm

#endif // FP8RT_COMM_MPICOMMUNICATOR_H
