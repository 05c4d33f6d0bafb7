# Debian 12 packages (scripts/setup installs them with apt).
find_package(OpenCV REQUIRED COMPONENTS core imgcodecs imgproc photo)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED) # SHA-256 of model and image files
find_package(Threads REQUIRED)
