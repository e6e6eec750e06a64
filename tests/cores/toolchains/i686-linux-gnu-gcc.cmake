# 32-bit x86 Linux (-m32: 4-byte size_t and pointers), with gcc, on an
# x86-64 host (libc6-dev-i386, lib32gcc-12-dev); the tests run natively.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER gcc)
# The kernel's asm headers are the same for both x86 ABIs: gcc-multilib
# links /usr/include/asm to x86-64's, which is what this does, in the build
# tree (gcc-multilib conflicts with Debian's cross compilers).
set(_cw_asm "${CMAKE_BINARY_DIR}/cw-i686-asm")
if(NOT EXISTS "${_cw_asm}/asm")
  file(MAKE_DIRECTORY "${_cw_asm}")
  file(CREATE_LINK /usr/include/x86_64-linux-gnu/asm "${_cw_asm}/asm" SYMBOLIC)
endif()
set(CMAKE_C_FLAGS_INIT "-m32 -idirafter ${_cw_asm}")
set(CMAKE_EXE_LINKER_FLAGS_INIT -m32)
set(CMAKE_SHARED_LINKER_FLAGS_INIT -m32)
