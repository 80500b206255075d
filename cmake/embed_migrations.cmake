# Script mode: writes OUT, a C++ file defining FUNC() -> std::vector<kit::Migration>.
set(body "")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  string(REGEX MATCH "^[0-9]+" version ${name})
  if(version STREQUAL "")
    message(FATAL_ERROR "migration ${f} must be named NNN_name.sql")
  endif()
  math(EXPR version "${version}")  # 008 is not octal here
  file(READ ${f} sql)
  string(APPEND body "      {${version}, \"${name}\", R\"estate_sql(${sql})estate_sql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from migrations/*.sql. Do not edit.\n#include <vector>\n#include \"services/kit/migrations.h\"\n\nstd::vector<kit::Migration> ${FUNC}() {\n  return {\n${body}  };\n}\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
