# SPDX-License-Identifier: Apache-2.0
#
# The fuzz harnesses in the normal build: each harness linked with a plain
# main() (driver.c) instead of libFuzzer, and registered as a ctest that
# runs it once over tests/fuzz/regress/<harness>/ and the seed corpus
# (regress.sh). Included from tests/CMakeLists.txt:
#
#   include(${PROJECT_SOURCE_DIR}/tests/fuzz/regress.cmake)
#
# A fuzzing build (-DFG_FUZZ=ON) registers the same tests with the
# libFuzzer binaries instead (tests/fuzz/CMakeLists.txt).
if(NOT FG_FUZZ)
  find_program(PYTHON3 python3 REQUIRED)
  set(_fg_fuzz_dir ${PROJECT_SOURCE_DIR}/tests/fuzz)
  foreach(_h IN ITEMS event config pack alert)
    add_executable(fuzz_run_${_h} ${_fg_fuzz_dir}/fuzz_${_h}.c ${_fg_fuzz_dir}/fuzz_util.c
                   ${_fg_fuzz_dir}/driver.c)
    target_link_libraries(fuzz_run_${_h} PRIVATE fg_core)
    add_test(NAME fuzz.regress.${_h}
             COMMAND sh ${_fg_fuzz_dir}/regress.sh $<TARGET_FILE:fuzz_run_${_h}> ${_h}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(fuzz.regress.${_h} PROPERTIES LABELS fuzz
      ENVIRONMENT "PYTHON3=${PYTHON3}")
  endforeach()
endif()
