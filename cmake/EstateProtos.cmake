# Debian ships google/api/annotations.proto only inside the grpc-gateway Go
# sources.
find_path(GOOGLEAPIS_PROTO_DIR google/api/annotations.proto
  PATHS /usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis
  NO_DEFAULT_PATH REQUIRED)

# estate_proto_library(NAME [EXTERNAL] PROTOS a.proto b.proto DEPS other_lib)
# Generates C++ messages and gRPC stubs for protos under protos/ (or, with
# EXTERNAL, under the googleapis directory); imports read estate/x/v1/y.proto
# and google/api/annotations.proto. NAME_messages holds the messages alone
# (protobuf, no gRPC: what domain libraries may link); NAME adds the stubs.
function(estate_proto_library name)
  cmake_parse_arguments(ARG "EXTERNAL" "" "PROTOS;DEPS" ${ARGN})
  set(src_root ${PROJECT_SOURCE_DIR}/protos)
  if(ARG_EXTERNAL)
    set(src_root ${GOOGLEAPIS_PROTO_DIR})
  endif()
  set(out_root ${PROJECT_BINARY_DIR}/protos)
  set(srcs)
  set(message_srcs)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${src_root}/${proto} ABSOLUTE)
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(gen ${out_root}/${stem}.pb.cc ${out_root}/${stem}.pb.h
            ${out_root}/${stem}.grpc.pb.cc ${out_root}/${stem}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${gen}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_root}
      COMMAND protobuf::protoc
        --proto_path=${PROJECT_SOURCE_DIR}/protos
        --proto_path=${GOOGLEAPIS_PROTO_DIR}
        --cpp_out=${out_root}
        --grpc_out=${out_root}
        --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
        ${abs}
      DEPENDS ${abs} protobuf::protoc gRPC::grpc_cpp_plugin
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND message_srcs ${out_root}/${stem}.pb.cc)
    list(APPEND srcs ${out_root}/${stem}.grpc.pb.cc)
  endforeach()
  set(message_deps)
  foreach(dep ${ARG_DEPS})
    list(APPEND message_deps ${dep}_messages)
  endforeach()
  add_library(${name}_messages STATIC ${message_srcs})
  target_include_directories(${name}_messages PUBLIC ${out_root})
  target_link_libraries(${name}_messages PUBLIC protobuf::libprotobuf ${message_deps})
  add_library(${name} STATIC ${srcs})
  target_link_libraries(${name} PUBLIC ${name}_messages gRPC::grpc++ ${ARG_DEPS})
endfunction()

# estate_domain_library(NAME SOURCES ... LIBS ...): a service's domain layer
# (pure rules: no database, no gRPC, no kit server parts). The build refuses
# one whose link closure reaches the MySQL driver, gRPC or the kit's I/O
# library, so DESIGN.md's layering is checked, not hoped for.
function(estate_domain_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  set(seen)
  set(todo ${ARG_LIBS})
  while(todo)
    list(POP_FRONT todo lib)
    if(lib IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${lib})
    if(lib MATCHES "(gRPC::|mysqlcppconn|prometheus-cpp::|^estate_kit$)")
      message(FATAL_ERROR "${name} is a domain library: it may not link ${lib}")
    endif()
    if(TARGET ${lib})
      get_target_property(deps ${lib} INTERFACE_LINK_LIBRARIES)
      if(deps)
        list(APPEND todo ${deps})
      endif()
    endif()
  endwhile()
endfunction()
