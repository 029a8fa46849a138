# The layers as build targets. Each folder of scripts/check-layers.sh's order is a static
# library authsvc_<folder> (app/http: authsvc_app_http) that links only the layer below it,
# and so, through it, every layer further down.
#
# A wrong-direction include fails the compiler, not only a test: every layer compiles with
# an include root of its own, build/layers/<folder>/, holding symbolic links to its own
# folder and to the folders below it, nothing else. "services/AuthService.h" is found from
# controllers/ (below it) and not from models/ (above it): there, it is "No such file".
# The spelling of an include stays "folder/File.h"; the source root is nobody's include
# directory. tests/layering/ checks that such an include stops `cmake --build`.

# The order, top to bottom, read from scripts/check-layers.sh (one list for both).
file(STRINGS ${CMAKE_SOURCE_DIR}/scripts/check-layers.sh order_line REGEX "^order=\\(")
string(REGEX REPLACE "^order=\\((.*)\\)$" "\\1" order_line "${order_line}")
string(REPLACE " " ";" AUTHSVC_LAYERS "${order_line}")

# authsvc_layer_include_root(TARGET FOLDER): gives TARGET (PUBLIC) the include root of the
# layer FOLDER: links to FOLDER and to every folder after it in AUTHSVC_LAYERS.
function(authsvc_layer_include_root target folder)
  list(FIND AUTHSVC_LAYERS ${folder} rank)
  if(rank EQUAL -1)
    message(FATAL_ERROR "${folder} is not a layer of scripts/check-layers.sh")
  endif()
  string(REPLACE "/" "_" id ${folder})
  set(root ${CMAKE_BINARY_DIR}/layers/${id})
  list(SUBLIST AUTHSVC_LAYERS ${rank} -1 visible)
  # Links of an earlier configure go first: the order may have changed since.
  file(GLOB stale LIST_DIRECTORIES true ${root}/* ${root}/*/*)
  foreach(link ${stale})
    if(IS_SYMLINK ${link})
      file(REMOVE ${link})
    endif()
  endforeach()
  set(linked "")
  foreach(f ${visible})
    get_filename_component(parent ${f} DIRECTORY)
    if(NOT parent STREQUAL "" AND parent IN_LIST linked)
      continue()  # app/http comes with app
    endif()
    get_filename_component(dir ${root}/${f} DIRECTORY)
    file(MAKE_DIRECTORY ${dir})
    if(IS_DIRECTORY ${root}/${f} AND NOT IS_SYMLINK ${root}/${f})
      file(REMOVE_RECURSE ${root}/${f})  # a folder where a link belongs (an older layout)
    endif()
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${f} ${root}/${f} SYMBOLIC)
    list(APPEND linked ${f})
  endforeach()
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${root}>)
endfunction()

# authsvc_layer(FOLDER BELOW [sources...]): the library of the layer in FOLDER (the current
# source directory), from its *.cpp and the extra sources given, linking BELOW (the
# library of the layer under it) publicly.
function(authsvc_layer folder below)
  string(REPLACE "/" "_" id ${folder})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  list(REMOVE_ITEM sources ${CMAKE_CURRENT_SOURCE_DIR}/main.cpp)
  add_library(authsvc_${id} STATIC ${sources} ${ARGN})
  authsvc_layer_include_root(authsvc_${id} ${folder})
  target_link_libraries(authsvc_${id} PUBLIC ${below})
  set_target_properties(authsvc_${id} PROPERTIES UNITY_BUILD ${AUTHSVC_UNITY})
endfunction()
