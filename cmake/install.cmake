# `cmake --install build --prefix P`: the public headers, libdermlens.so with its CMake package
# (find_package(dermlens) -> dermlens::dermlens), the dermlens CLI, and the data folder
# (share/dermlens: the knowledge base, prompts, grammars), found at run time beside bin/ and lib/.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS dermlens_library EXPORT dermlensTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS dermlens RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/dermlens DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/dermlens)

set(dermlens_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/dermlens)
install(EXPORT dermlensTargets NAMESPACE dermlens:: DESTINATION ${dermlens_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dermlensConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/dermlensConfig.cmake INSTALL_DESTINATION ${dermlens_cmake_dir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/dermlensConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/dermlensConfig.cmake ${CMAKE_BINARY_DIR}/dermlensConfigVersion.cmake
        DESTINATION ${dermlens_cmake_dir})
