# Fails when the committed docs/dialects/*.md differ from what ODS generates now.
file(GLOB generated "${GENERATED}/*.md")
if(NOT generated)
  message(FATAL_ERROR "no generated docs in ${GENERATED}; build the mlir-doc target")
endif()
foreach(file ${generated})
  get_filename_component(name ${file} NAME)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${file} ${COMMITTED}/${name}
                  RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "docs/dialects/${name} is stale: run `ninja -C build fp8c-update-docs`")
  endif()
endforeach()
