# Debian ships google/api/annotations.proto only inside the grpc-gateway Go
# sources.
find_path(GOOGLEAPIS_PROTO_DIR google/api/annotations.proto
  PATHS /usr/share/gocode/src/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis
  NO_DEFAULT_PATH REQUIRED)

# estate_proto_library(NAME [EXTERNAL] PROTOS a.proto b.proto DEPS other_lib)
# Generates C++ messages and gRPC stubs for protos under protos/ (or, with
# EXTERNAL, under the googleapis directory) into one static library; imports
# read estate/x/v1/y.proto and google/api/annotations.proto.
function(estate_proto_library name)
  cmake_parse_arguments(ARG "EXTERNAL" "" "PROTOS;DEPS" ${ARGN})
  set(src_root ${PROJECT_SOURCE_DIR}/protos)
  if(ARG_EXTERNAL)
    set(src_root ${GOOGLEAPIS_PROTO_DIR})
  endif()
  set(out_root ${PROJECT_BINARY_DIR}/protos)
  set(srcs)
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
    list(APPEND srcs ${out_root}/${stem}.pb.cc ${out_root}/${stem}.grpc.pb.cc)
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${out_root})
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf gRPC::grpc++ ${ARG_DEPS})
endfunction()
